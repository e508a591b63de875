//! The values that command-line options choose from, mirroring the library's enums: the
//! library's types know nothing of clap, and each choice here converts into its library type
//! (and back, so that a variant added to one side and not the other does not compile). The
//! variants' doc comments are the `--help` text of their values.

use clap::ValueEnum;

use crate::ab::PilotFormat;
use crate::bundle::Precision;
use crate::data::Format;
use crate::model::{Activation, Refinement};
use crate::train::{Batching, Loss};

/// Declares `$choice`, a `ValueEnum` with `$library`'s variants, and the conversions
/// between the two.
macro_rules! choice {
    ($(#[$meta:meta])* $choice:ident => $library:ident {
        $($(#[$variant_meta:meta])* $variant:ident,)+
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
        pub(super) enum $choice {
            $($(#[$variant_meta])* $variant,)+
        }

        impl From<$choice> for $library {
            fn from(choice: $choice) -> Self {
                match choice {
                    $($choice::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$library> for $choice {
            fn from(value: $library) -> Self {
                match value {
                    $($library::$variant => Self::$variant,)+
                }
            }
        }
    };
}

choice! {
    /// `--format` of a log: [`Format`].
    FormatChoice => Format {
        /// MovieLens CSV with a `userId,movieId,rating,timestamp` header.
        Movielens,
        /// MovieLens `::`-separated `.dat`.
        Dat,
        /// RecBole atomic `.inter` file.
        Atomic,
        /// One user per line: `user item1 item2 …`.
        Sequences,
        /// One interaction per line: `user item`.
        Pairs,
        /// A shop's click export: a CSV or TSV with a header, columns chosen by name
        /// (--session-column, --item-column, …); every session (or visitor, cut at an
        /// inactivity gap) is one anonymous session.
        Events,
        /// Diginetica's raw `train-item-views.csv`.
        Diginetica,
        /// YooChoose's raw `yoochoose-clicks.dat`.
        Yoochoose,
        /// RetailRocket's raw `events.csv`.
        Retailrocket,
    }
}

choice! {
    /// `--precision`: [`Precision`].
    PrecisionChoice => Precision {
        /// 32-bit floats: exact.
        F32,
        /// 16-bit floats: half the size.
        F16,
        /// 8-bit integers with an f16 scale per row: a quarter of the size.
        Int8,
    }
}

choice! {
    /// `--refinement`: [`Refinement`].
    RefinementChoice => Refinement {
        /// Plain SASRec: `O = A V`.
        None,
        /// M_simp: `O = Â V`.
        Simple,
        /// M_value: `O = Â (A V)` (the default: never worse than plain SASRec in the study,
        /// docs/results.md).
        Value,
        /// M_add: `O = ((1 − g) A + g Â) V` with a learnable gate `g`.
        Additive,
    }
}

choice! {
    /// `--activation`: [`Activation`].
    ActivationChoice => Activation {
        /// Gaussian error linear unit (the default).
        Gelu,
        /// Rectified linear unit (the original SASRec).
        Relu,
    }
}

choice! {
    /// `--loss`: [`Loss`].
    LossChoice => Loss {
        /// Full softmax cross-entropy over all items.
        Ce,
        /// Binary cross-entropy with one sampled negative per position (original SASRec).
        Bce,
        /// Sampled softmax for large catalogues: each target against the batch's other targets
        /// and --negatives uniformly drawn items, every candidate's logit lowered
        /// by the log of its expected count among them (the log-frequency correction), copies of
        /// the target itself left out.
        Sampled,
    }
}

choice! {
    /// `--batching`: [`Batching`].
    BatchingChoice => Batching {
        /// Shuffled sequences, every batch padded to n; the loss is each batch's mean over its
        /// targets.
        Shuffled,
        /// Shuffled, then sorted by length within buckets of 64 batches, the
        /// batches in random order; each batch is padded only to its longest sequence, which
        /// saves most of the work when sequences are much shorter than n. The loss is a batch's
        /// sum over its targets divided by the epoch's mean number of targets per batch: every
        /// target weighs the same, about what it weighs in shuffled batches (whose target counts
        /// stay near that mean), and the epoch's loss is the mean over its targets.
        ByLength,
    }
}

choice! {
    /// `awrsr ab --format`: [`PilotFormat`].
    PilotFormatChoice => PilotFormat {
        /// CSV or TSV with a header line.
        Csv,
        /// JSON lines: one object a line.
        Jsonl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the CLI prints for a detected format are those `--format` takes.
    #[test]
    fn format_names_are_the_flag_values() {
        for choice in FormatChoice::value_variants() {
            let value = choice.to_possible_value().expect("no variant is hidden");
            assert_eq!(value.get_name(), Format::from(*choice).name());
        }
    }
}
