//! Answers out: Rust values as plain JavaScript values (objects, arrays, strings, numbers),
//! made by serde-wasm-bindgen, with every `f32` written as the `f64` nearest its shortest
//! decimal form, so a score of 0.3 reads 0.3 in JavaScript, not 0.30000001192092896 (the
//! answers read as they did when they crossed as JSON). A long list of strings still crosses
//! as one JSON string ([`strings_to_js`]), as the id lists coming in do.

use serde::Serialize;
use serde::ser::{self, Serializer};
use wasm_bindgen::prelude::*;

use super::reflect::describe;
use crate::inference::Recommendations;

/// serde-wasm-bindgen set so that maps become plain objects, not `Map`s (serde writes a
/// struct with a flattened field, as [`RecommendOutput`], as a map).
static TO_JS: serde_wasm_bindgen::Serializer =
    serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);

/// What `recommend` resolves to.
#[derive(Serialize)]
pub(super) struct RecommendOutput {
    /// The items, the unknown ids and, with `explain`, the attention view.
    #[serde(flatten)]
    pub result: Recommendations,
    /// `'webgpu'` or `'cpu'`.
    pub backend: &'static str,
    /// Milliseconds the call took in the module.
    pub ms: f64,
}

/// A Rust value as a JavaScript value.
pub(super) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    Floats(value)
        .serialize(&TO_JS)
        .map_err(|e| JsError::new(&describe(&JsValue::from(e))))
}

/// A long list of strings (the catalogue's ids) as a JavaScript array, through one JSON
/// string: one copy and a `JSON.parse`, where serde-wasm-bindgen crosses once a string (2.5–4.5×
/// slower for 9,724 and 100,000 ids here).
pub(super) fn strings_to_js(list: &[String]) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(list).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("result cannot be read as JSON"))
}

/// The `f64` nearest the shortest decimal that reads back as `x`, as serde_json writes it
/// (zmij, which breaks a tie to the even digit where Rust's `Display` rounds up).
fn shortest(x: f32) -> f64 {
    match x.is_finite() {
        true => zmij::Buffer::new()
            .format_finite(x)
            .parse()
            .unwrap_or(f64::from(x)),
        false => f64::from(x),
    }
}

/// A value whose `f32`s serialise through [`shortest`].
struct Floats<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Floats<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Shortest(serializer))
    }
}

/// A serializer, or one of its parts, that hands everything to the one it wraps: each `f32`
/// as [`shortest`]'s `f64`, each nested value wrapped in [`Floats`].
struct Shortest<S>(S);

/// Methods of [`Shortest`] that pass their arguments on unchanged.
macro_rules! pass_on {
    ($($method:ident($($arg:ident: $type:ty),*);)*) => {$(
        fn $method(self, $($arg: $type),*) -> Result<S::Ok, S::Error> {
            self.0.$method($($arg),*)
        }
    )*};
}

/// Methods of [`Shortest`] that start a compound value, wrapped in turn.
macro_rules! begin {
    ($($method:ident($($arg:ident: $type:ty),*) -> $part:ident;)*) => {$(
        fn $method(self, $($arg: $type),*) -> Result<Self::$part, S::Error> {
            self.0.$method($($arg),*).map(Shortest)
        }
    )*};
}

impl<S: Serializer> Serializer for Shortest<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Shortest<S::SerializeSeq>;
    type SerializeTuple = Shortest<S::SerializeTuple>;
    type SerializeTupleStruct = Shortest<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Shortest<S::SerializeTupleVariant>;
    type SerializeMap = Shortest<S::SerializeMap>;
    type SerializeStruct = Shortest<S::SerializeStruct>;
    type SerializeStructVariant = Shortest<S::SerializeStructVariant>;

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.0.serialize_f64(shortest(v))
    }

    pass_on! {
        serialize_bool(v: bool); serialize_i8(v: i8); serialize_i16(v: i16);
        serialize_i32(v: i32); serialize_i64(v: i64); serialize_i128(v: i128);
        serialize_u8(v: u8); serialize_u16(v: u16); serialize_u32(v: u32);
        serialize_u64(v: u64); serialize_u128(v: u128); serialize_f64(v: f64);
        serialize_char(v: char); serialize_str(v: &str); serialize_bytes(v: &[u8]);
        serialize_none(); serialize_unit(); serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Floats(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Floats(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Floats(value))
    }

    begin! {
        serialize_seq(len: Option<usize>) -> SerializeSeq;
        serialize_tuple(len: usize) -> SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
            -> SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
            -> SerializeStructVariant;
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A compound part of [`Shortest`]: each element or field wrapped in [`Floats`].
macro_rules! part {
    ($($part:ident::$method:ident($($key:ident: $type:ty),*);)*) => {$(
        impl<S: ser::$part> ser::$part for Shortest<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: $type,)*
                value: &T,
            ) -> Result<(), S::Error> {
                self.0.$method($($key,)* &Floats(value))
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

part! {
    SerializeSeq::serialize_element();
    SerializeTuple::serialize_element();
    SerializeTupleStruct::serialize_field();
    SerializeTupleVariant::serialize_field();
    SerializeStruct::serialize_field(key: &'static str);
    SerializeStructVariant::serialize_field(key: &'static str);
}

impl<S: ser::SerializeMap> ser::SerializeMap for Shortest<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Floats(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Floats(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}
