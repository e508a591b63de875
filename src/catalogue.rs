//! The item catalogue: external item ids (strings, as a storefront knows them), optional
//! titles, and the dense internal indices 1..=N that the model uses (0 is padding).

use std::borrow::Cow;
use std::collections::HashMap;

/// Longest excerpt of untrusted text an error message quotes, in characters.
pub const EXCERPT_CHARS: usize = 80;
/// Longest excerpt of another component's message (a parser's, the browser's) that an error
/// message passes on, in characters.
pub const MESSAGE_EXCERPT_CHARS: usize = 200;

/// `text` quoted for an error message: at most [`EXCERPT_CHARS`] characters, with `…` after
/// the quote when it was cut, so that a 10 MB id never makes a 10 MB message.
pub fn excerpt(text: &str) -> String {
    let (kept, cut) = shorten(text, EXCERPT_CHARS);
    format!("{kept:?}{cut}")
}

/// Another component's message passed on in ours (serde's, safetensors', the browser's, any
/// of which may quote the input): unquoted, at most [`MESSAGE_EXCERPT_CHARS`] characters,
/// with `…` after it when it was cut.
pub fn message_excerpt(text: &str) -> String {
    let (kept, cut) = shorten(text, MESSAGE_EXCERPT_CHARS);
    format!("{kept}{cut}")
}

/// `text` as printed to a terminal: control characters (C0, DEL, C1) and the bidirectional
/// formatting characters that reorder what follows them shown escaped, `\x1b` or `\u{202e}`,
/// so that an id or title from a file can neither move the cursor, recolour the terminal nor
/// disguise the text around it. Other text is returned as it is.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if unsafe_char(c) && c.is_ascii() => shown += &format!("\\x{:02x}", c as u32),
            c if unsafe_char(c) => shown += &format!("\\u{{{:x}}}", c as u32),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// The first `limit` characters of `text`, and `"…"` when that leaves some out (else `""`).
fn shorten(text: &str, limit: usize) -> (&str, &'static str) {
    match text.char_indices().nth(limit) {
        Some((end, _)) => (&text[..end], "…"),
        None => (text, ""),
    }
}

/// External ids and titles of the N items a model knows, in internal index order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    ids: Vec<String>,
    titles: Vec<Option<String>>,
    index: HashMap<String, u32>,
}

impl Catalogue {
    /// Builds a catalogue from ids in internal order (item i + 1 is `ids[i]`); `titles`, when
    /// given, is aligned with `ids`. Returns an error naming a duplicated id.
    pub fn new(ids: Vec<String>, titles: Vec<Option<String>>) -> Result<Self, String> {
        if titles.len() != ids.len() {
            return Err(format!("{} titles for {} items", titles.len(), ids.len()));
        }
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if index.insert(id.clone(), i as u32 + 1).is_some() {
                return Err(format!("item id {} appears twice", excerpt(id)));
            }
        }
        Ok(Self { ids, titles, index })
    }

    /// Number of items N.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the catalogue has no items.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Internal index (1..=N) of an external id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// External id of internal index `index` (1..=N).
    pub fn id(&self, index: u32) -> &str {
        &self.ids[index as usize - 1]
    }

    /// Title of internal index `index`, when known.
    pub fn title(&self, index: u32) -> Option<&str> {
        self.titles[index as usize - 1].as_deref()
    }

    /// All external ids in internal order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// All titles in internal order.
    pub fn titles(&self) -> &[Option<String>] {
        &self.titles
    }

    /// True when at least one item has a title.
    pub fn has_titles(&self) -> bool {
        self.titles.iter().any(Option::is_some)
    }
}
