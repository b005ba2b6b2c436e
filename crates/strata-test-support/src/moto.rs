//! An S3 server on a free 127.0.0.1 port: moto's `moto_server`
//! (`pip install 'moto[server]'`), in memory, stopped on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running S3 server.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl S3Server {
    /// Starts one with an empty bucket `bucket`.
    pub fn start(bucket: &str) -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tests need moto_server (pip install 'moto[server]')");
        let s = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // moto does not check signatures: a plain PUT makes the bucket.
        let out = Command::new("curl")
            .args(["-sf", "-X", "PUT", &format!("{}/{bucket}", s.endpoint)])
            .output()
            .expect("curl");
        assert!(out.status.success(), "creating bucket {bucket} failed");
        s
    }

    /// Keys of the objects in `bucket` (first 1000).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/{bucket}?list-type=2", self.endpoint)])
            .output()
            .expect("curl");
        let xml = String::from_utf8_lossy(&out.stdout);
        xml.split("<Key>")
            .skip(1)
            .filter_map(|p| p.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
