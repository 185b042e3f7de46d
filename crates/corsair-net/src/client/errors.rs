//! Transport failures named as Chromium names them (`ERR_CONNECTION_REFUSED`, ...).

#[allow(unused_imports)]
use super::*;

pub(super) fn net(code: &str, detail: String) -> NetError {
    NetError {
        code: code.to_string(),
        detail,
    }
}

pub(super) fn connect_error(addr: SocketAddr, e: std::io::Error) -> NetError {
    use std::io::ErrorKind::*;
    let code = match e.kind() {
        ConnectionRefused => "ERR_CONNECTION_REFUSED",
        TimedOut => "ERR_CONNECTION_TIMED_OUT",
        AddrNotAvailable | NetworkUnreachable | HostUnreachable => "ERR_ADDRESS_UNREACHABLE",
        _ => "ERR_CONNECTION_FAILED",
    };
    net(code, format!("cannot connect to {addr}: {e}"))
}

pub(super) fn tls_error(e: std::io::Error) -> NetError {
    let text = e.to_string();
    let code = if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        if text.contains("NotValidForName") {
            "ERR_CERT_COMMON_NAME_INVALID"
        } else if text.contains("Expired") {
            "ERR_CERT_DATE_INVALID"
        } else {
            "ERR_CERT_AUTHORITY_INVALID"
        }
    } else {
        "ERR_SSL_PROTOCOL_ERROR"
    };
    net(
        code,
        format!(
            "TLS handshake failed: {text} (use --cacert FILE to trust a private CA, or --insecure)"
        ),
    )
}

pub(super) fn response_error(e: hyper::Error) -> NetError {
    let text = e.to_string();
    let code = if e.is_incomplete_message() || text.contains("connection closed") {
        "ERR_EMPTY_RESPONSE"
    } else if text.contains("too large") || text.contains("TooLarge") {
        "ERR_RESPONSE_HEADERS_TOO_BIG"
    } else if e.is_parse() {
        "ERR_INVALID_HTTP_RESPONSE"
    } else {
        "ERR_CONNECTION_RESET"
    };
    let detail = match std::error::Error::source(&e) {
        Some(src) => format!("{text}: {src}"),
        None => text,
    };
    net(
        code,
        format!("the server's response was unusable: {detail}"),
    )
}
