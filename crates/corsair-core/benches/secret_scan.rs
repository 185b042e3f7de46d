//! Cost of keeping injected secrets from the page (`corsair proxy`): a 1 MiB JSON body scanned
//! in 16 KiB reads for every form of two secrets, against copying the same reads (what the
//! proxy does with the body when nothing is injected).
#![allow(missing_docs)] // criterion's and the examples' generated items

use corsair_core::relay::{Scanner, Secrets};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let secrets = Secrets::new([
        "Bearer 2f9c1a7e4b8d6f03a5c2e1b9d7f4a6c8",
        "Basic YXBpLXVzZXI6dGhlLWFwaS1wYXNzd29yZA==",
    ]);
    let body: Vec<u8> = (0..)
        .flat_map(|i: u32| {
            format!("{{\"id\":{i},\"name\":\"item {i}\",\"tags\":[\"a\",\"b\"]}},").into_bytes()
        })
        .take(1 << 20)
        .collect();
    let mut g = c.benchmark_group("secret_scan");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function(format!("{} forms, 16 KiB reads", secrets.len()), |b| {
        b.iter(|| {
            let mut scan = Scanner::new();
            let mut out = 0;
            for chunk in body.chunks(16 << 10) {
                out += scan.push(&secrets, black_box(chunk)).unwrap().len();
            }
            out + scan.finish().len()
        })
    });
    g.bench_function("copy only, 16 KiB reads", |b| {
        b.iter(|| {
            let mut out = 0;
            for chunk in body.chunks(16 << 10) {
                out += black_box(chunk).to_vec().len();
            }
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
