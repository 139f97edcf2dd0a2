//! `include/sysprims.h` is generated from the crate by cbindgen; this test fails when the
//! committed header differs from what the code generates. `SYSPRIMS_UPDATE_HEADER=1`
//! rewrites it instead.

use std::path::PathBuf;

#[test]
fn header_is_current() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");

    let path = crate_dir.join("include").join("sysprims.h");
    if std::env::var_os("SYSPRIMS_UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/sysprims.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "one is a prefix of the other".to_string(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "{} is stale ({first_difference}): the exported functions, constants or their doc \
             comments changed. Regenerate it with\n  SYSPRIMS_UPDATE_HEADER=1 cargo test -p \
             sysprims-ffi --test header\nand commit the result.",
            path.display()
        );
    }
}
