//! The `awrsr` command-line tool: train, evaluate and query models.

/// Training allocates and frees large tensors every step; mimalloc reuses those pages
/// instead of returning them to the system (≈25% faster epochs than glibc malloc here).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_e` (`include/mimalloc.h`), the
/// same in the v2 and v3 sources that libmimalloc-sys bundles (v3 is built by default); the
/// enum keeps retired options to hold the numbers. libmimalloc-sys names no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed pages to the system (overriding any
/// `MIMALLOC_PURGE_DELAY`). By default mimalloc 3 gives them back a second after they are
/// freed, and later `[targets × items]` buffers then fault in fresh pages, which the kernel
/// clears: a Beauty epoch is about 13% faster without that, and the process stays at its peak
/// memory instead of shrinking between steps.
fn keep_freed_pages() {
    // SAFETY: sets one of mimalloc's options; mimalloc reads it when it next purges.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// Stack of the thread the CLI runs on: the main thread's usual 8 MiB.
const STACK_BYTES: usize = 8 << 20;

/// Runs the CLI on a worker of a rayon pool (`RAYON_NUM_THREADS` threads, default one per
/// core). burn-flex splits its kernels with rayon; called from outside the pool, each
/// operation is handed to a worker and waited for across threads, which cost about 3% of a
/// Beauty epoch with `RAYON_NUM_THREADS=1`. From inside, they run in place and share out to
/// the other workers. If the pool cannot be built, it says so and runs on the main thread.
fn main() -> std::process::ExitCode {
    keep_freed_pages();
    match rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_BYTES)
        .build()
    {
        Ok(pool) => pool.install(awrsr::cli::run),
        Err(error) => {
            eprintln!("awrsr: could not start a thread pool ({error}); running on the main thread");
            awrsr::cli::run()
        }
    }
}
