//! The throwaway server starts, accepts connections on its port, and is
//! gone once dropped.

use std::net::TcpStream;

use jido_testkit::TempPostgres;

#[test]
fn a_temp_server_listens_until_dropped() {
    let Some(server) = TempPostgres::start_or_skip("a_temp_server_listens_until_dropped") else {
        return;
    };
    let port = server.port();
    assert!(server.url().contains(&format!("port={port}")));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(server);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}
