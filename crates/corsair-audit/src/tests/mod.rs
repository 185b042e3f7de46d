//! Unit tests of the audit: the probes it builds (`probes`), and what it finds in the answers
//! (`findings`). The helpers here answer every probe as a server would.

use super::*;
pub(super) use crate::roots::accepted;

pub(super) fn subject() -> Subject {
    Subject::new("http://api.fleet.test:8080/me", None, vec![]).unwrap()
}

pub(super) fn answer(
    s: &Subject,
    server: impl Fn(&Probe) -> Vec<(&'static str, String)>,
) -> Vec<Finding> {
    answer_full(s, |p| (200, server(p), String::new()))
}

/// Each probe's status, headers and body from `server`.
pub(super) fn answer_full(
    s: &Subject,
    server: impl Fn(&Probe) -> (u16, Vec<(&'static str, String)>, String),
) -> Vec<Finding> {
    let answers: Vec<(Probe, Result<Reply, crate::fetch::NetError>)> = probes(s)
        .into_iter()
        .map(|p| {
            let (status, headers, body) = server(&p);
            let headers = headers
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.into_bytes()))
                .collect();
            let r = Reply {
                head: ResponseHead { status, headers },
                body: body.into_bytes(),
            };
            (p, Ok(r))
        })
        .collect();
    assess(s, &answers)
}

/// A server that allows the origins `allows` accepts, with credentials and Vary.
pub(super) fn allowing(s: &Subject, allows: impl Fn(&str) -> bool) -> Vec<Finding> {
    answer(s, |p| {
        if p.origin == s.trusted || allows(&p.origin) {
            vec![
                ("Access-Control-Allow-Origin", p.origin.clone()),
                ("Access-Control-Allow-Credentials", "true".into()),
                ("Vary", "Origin".into()),
            ]
        } else {
            vec![("Vary", "Origin".into())]
        }
    })
}

pub(super) fn classes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.class.id()).collect()
}

mod findings;
mod probes;
