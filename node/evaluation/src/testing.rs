//! A loopback HTTP server for tests that need artifacts served (this crate's, the scoring pallet's
//! offchain-worker tests). Nothing here is used by the node.
//!
//! Routes, for files in the directory it serves:
//! - `/files/<name>`: the file;
//! - `/ipfs/<cid>/<name>`: the file, as an IPFS gateway would serve it;
//! - `/status/<code>`: an empty answer with that HTTP status;
//! - `/slow/<name>`: the file, after 3 seconds;
//! - `/redirect/<name>`: a `302` to `/files/<name>`;
//! - `/padded/<name>`: the file followed by 100 zero bytes.

use std::{
	io::{BufRead, BufReader, Write},
	net::TcpListener,
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::Duration,
};

/// The server; it runs until the test process ends.
pub struct FixtureServer {
	/// `http://127.0.0.1:<port>`.
	pub base: String,
	/// Requests served so far.
	pub hits: Arc<AtomicUsize>,
}

impl FixtureServer {
	/// Serves `dir` on a free loopback port.
	pub fn start(dir: PathBuf) -> Self {
		let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
		let base = format!("http://{}", listener.local_addr().expect("bound"));
		let hits = Arc::new(AtomicUsize::new(0));
		let counter = hits.clone();
		std::thread::spawn(move || {
			for stream in listener.incoming() {
				let Ok(mut stream) = stream else { continue };
				counter.fetch_add(1, Ordering::SeqCst);
				let dir = dir.clone();
				std::thread::spawn(move || {
					let Ok(read_half) = stream.try_clone() else { return };
					let mut reader = BufReader::new(read_half);
					let mut line = String::new();
					if reader.read_line(&mut line).is_err() {
						return;
					}
					loop {
						let mut header = String::new();
						if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
							break;
						}
					}
					let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
					let (status, extra, body) = route(&dir, &path);
					// `/keepalive/<name>` offers to keep the connection, then closes it 100 ms
					// later: what servers with a short keep-alive timeout do.
					let keep_alive = path.starts_with("/keepalive/");
					let connection = if keep_alive { "keep-alive" } else { "close" };
					let _ = write!(
						stream,
						"HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: {connection}\r\n{extra}\r\n",
						body.len()
					);
					let _ = stream.write_all(&body);
					if keep_alive {
						let _ = stream.flush();
						std::thread::sleep(Duration::from_millis(100));
					}
				});
			}
		});
		Self { base, hits }
	}

	/// The URL of `path` on this server.
	pub fn url(&self, path: &str) -> String {
		format!("{}{path}", self.base)
	}
}

fn route(dir: &Path, path: &str) -> (String, String, Vec<u8>) {
	let file = |name: &str| {
		// Names only: nothing outside the served directory.
		if name.contains("..") {
			return None;
		}
		std::fs::read(dir.join(name)).ok()
	};
	let ok = |bytes: Vec<u8>| ("200 OK".to_string(), String::new(), bytes);
	let not_found = || ("404 Not Found".to_string(), String::new(), b"not found".to_vec());
	let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
	match segments.as_slice() {
		["files", name] | ["ipfs", _, name] | ["keepalive", name] => {
			file(name).map(ok).unwrap_or_else(not_found)
		},
		["status", code] => (format!("{code} Status"), String::new(), Vec::new()),
		["slow", name] => {
			std::thread::sleep(Duration::from_secs(3));
			file(name).map(ok).unwrap_or_else(not_found)
		},
		["redirect", name] => {
			("302 Found".to_string(), format!("Location: /files/{name}\r\n"), Vec::new())
		},
		["padded", name] => file(name)
			.map(|mut bytes| {
				bytes.extend_from_slice(&[0u8; 100]);
				ok(bytes)
			})
			.unwrap_or_else(not_found),
		_ => not_found(),
	}
}
