//! What every fuzz target shares: an allocator that measures, and the bound on memory each
//! kind of target must keep to.
//!
//! The checks themselves live next to the code they exercise (`sysprims::fuzzing`,
//! `sysprims_ffi::fuzzing`), where the corpus replay tests of `cargo test` run them too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes live and the most live at once.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are only
// arithmetic on the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

fn grow(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f` on `data` and fail if, at any moment, it had more than `base + per_byte * len`
/// bytes allocated beyond what was live before.
fn bounded(data: &[u8], base: usize, per_byte: usize, f: fn(&[u8])) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    f(data);
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let limit = base + per_byte * data.len();
    assert!(
        used <= limit,
        "{used} bytes allocated at once for {} bytes of input (limit {limit})",
        data.len()
    );
}

/// A parser target: kernel data is parsed in place, so memory stays within a small multiple
/// of the input (text made lossless UTF-8, unescaped fields, environment maps).
pub fn parser(data: &[u8], f: fn(&[u8])) {
    bounded(data, 64 * 1024, 16, f);
}

/// A C ABI target: the JSON parsed into structures, the call's own reading of `/proc` (one
/// process's files, a few listed PIDs), the JSON result, the error strings.
pub fn c_abi(data: &[u8], f: fn(&[u8])) {
    bounded(data, 16 * 1024 * 1024, 64, f);
}
