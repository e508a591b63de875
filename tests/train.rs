//! Training input: how long histories are cut into windows.

use awrsr::train::windows;

#[test]
fn windows_make_every_item_after_the_first_a_target_exactly_once() {
    for len in 0..40usize {
        for n in 1..8usize {
            let sequence: Vec<u32> = (1..=len as u32).collect();
            let cut = windows(&sequence, n);
            let mut targets: Vec<u32> = cut.iter().flat_map(|w| w[1..].iter().copied()).collect();
            targets.sort_unstable();
            let expected: Vec<u32> = sequence.iter().skip(1).copied().collect();
            assert_eq!(targets, expected, "len {len}, n {n}");
            for w in &cut {
                assert!(w.len() >= 2 && w.len() <= n + 1, "len {len}, n {n}: window {w:?}");
                assert!(sequence.windows(w.len()).any(|s| s == *w), "a window is a contiguous run");
            }
            if len > 1 {
                assert_eq!(cut[0].last(), sequence.last(), "the newest window ends at the newest item");
            }
        }
    }
}
