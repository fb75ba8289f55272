//! The console's hydration entry point, compiled to wasm by cargo-leptos.
// A release build keeps the views' full types (debug builds erase them, `--cfg
// erase_components`), and the DCR settings form's nests deeper than the default limit of 128.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
