//! Small pieces the console's pages share: messages from server functions, field errors, page
//! headers, badges, copy buttons.

use leptos::prelude::*;

use crate::api::PROBLEM_SEPARATOR;

/// The message a server function failed with, without the framework's prefix.
pub fn error_message(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => sentence_case(message),
        other => other.to_string(),
    }
}

/// Splits a settings error "field: message" into the field it concerns and the message. An
/// error reporting several problems (see [`PROBLEM_SEPARATOR`]) names no field of its own: see
/// [`problems`].
pub fn field_error(error: &ServerFnError) -> (Option<String>, String) {
    let message = error_message(error);
    if message.contains(PROBLEM_SEPARATOR) {
        return (None, message);
    }
    split_field(&message)
}

fn split_field(line: &str) -> (Option<String>, String) {
    match line.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') && !field.is_empty() => (Some(field.to_owned()), rest.to_owned()),
        _ => (None, line.to_owned()),
    }
}

/// The problems an error reports: itself, or each of several.
fn problems((field, message): &(Option<String>, String)) -> Vec<(Option<String>, String)> {
    match field {
        None if message.contains(PROBLEM_SEPARATOR) => message.split(PROBLEM_SEPARATOR).map(split_field).collect(),
        _ => vec![(field.clone(), message.clone())],
    }
}

/// A message as a sentence: a first word in lowercase letters gets its capital ("name at
/// least one issuer" reads "Name at least one issuer"); one that is an identifier
/// (`token_endpoint_auth_method`, `keys[0]`, `'x'`) is left as it is.
pub fn sentence_case(message: &str) -> String {
    let first_word = message.split(' ').next().unwrap_or_default();
    if first_word.is_empty() || !first_word.bytes().all(|b| b.is_ascii_lowercase()) {
        return message.to_owned();
    }
    let mut chars = message.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Whether a problem's field is `field` or one of its members (`field.member`).
fn concerns(problem_field: Option<&str>, field: &str) -> bool {
    problem_field.is_some_and(|f| f == field || f.strip_prefix(field).is_some_and(|rest| rest.starts_with('.')))
}

/// Whether a problem's field is `field`, a member or an item of it (`field[2].value`), which
/// the form shows somewhere under `field`.
fn within(problem_field: Option<&str>, field: &str) -> bool {
    concerns(problem_field, field) || problem_field.and_then(|f| f.strip_prefix(field)).is_some_and(|rest| rest.starts_with('['))
}

/// Whether `error` reports a problem with any of `fields` (or a member or item of one).
pub fn error_concerns(error: &(Option<String>, String), fields: &[&str]) -> bool {
    problems(error).iter().any(|(problem_field, _)| fields.iter().any(|field| within(problem_field.as_deref(), field)))
}

/// A message under a form field, shown when the last error concerns `field`. While it shows,
/// the field's inputs are marked invalid and described by it (`aria-invalid`,
/// `aria-describedby`), so a screen reader reads the message again when one is focused.
#[component]
pub fn FieldMessage(
    /// The field, as the server names it; a row's fields follow the row as it moves.
    #[prop(into)]
    field: Signal<String>,
    error: Signal<Option<(Option<String>, String)>>,
) -> impl IntoView {
    let message = Memo::new(move |_| {
        let message = error
            .get()
            .and_then(|error| field.with(|field| problems(&error).into_iter().find(|(f, _)| concerns(f.as_deref(), field))));
        message.map(|(_, message)| sentence_case(&message))
    });
    let anchor = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let shown = message.with(Option::is_some);
        if let Some(anchor) = anchor.get() {
            describe_inputs(&anchor, shown);
        }
    });
    view! {
        <div class="field-message" node_ref=anchor>
            {move || message.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
        </div>
    }
}

/// Marks the inputs a [`FieldMessage`] (at `anchor`) speaks of as invalid and described by its
/// message while it is `shown`, and clears both once it is not. Those inputs are the nearest
/// before it among its siblings: an input itself, or every input of a group (checkboxes, radio
/// buttons). The message's wrapper, always there, takes its id from the first input's
/// (`{id}-error`, unique on the page), so nothing waits for the message itself to be drawn.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn describe_inputs(anchor: &leptos::web_sys::Element, shown: bool) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        const INPUTS: &str = "input:not([type=hidden]), textarea, select";
        let mut sibling = anchor.previous_element_sibling();
        let inputs: Vec<web_sys::Element> = loop {
            let Some(element) = sibling else { return };
            if element.matches(INPUTS).unwrap_or(false) {
                break vec![element];
            }
            if let Ok(within) = element.query_selector_all(INPUTS)
                && within.length() > 0
            {
                break (0..within.length()).filter_map(|i| within.item(i)).filter_map(|node| node.dyn_into().ok()).collect();
            }
            sibling = element.previous_element_sibling();
        };
        let id = inputs.iter().map(web_sys::Element::id).find(|id| !id.is_empty()).map(|id| format!("{id}-error"));
        if let Some(id) = &id {
            anchor.set_id(id);
        }
        for input in &inputs {
            if shown {
                let _ = input.set_attribute("aria-invalid", "true");
                if let Some(id) = &id {
                    let _ = input.set_attribute("aria-describedby", id);
                }
            } else {
                let _ = input.remove_attribute("aria-describedby");
                let _ = input.remove_attribute("aria-invalid");
            }
        }
    }
}

/// The form-level message for errors that name no field of the form, or a field `hidden` says
/// is out of sight just now (in a section switched off), whose own message nobody would see.
#[component]
pub fn FormMessage(
    error: Signal<Option<(Option<String>, String)>>,
    fields: &'static [&'static str],
    #[prop(optional, into)] hidden: Option<Signal<Vec<&'static str>>>,
) -> impl IntoView {
    move || {
        let error = error.get()?;
        let all = problems(&error);
        let hidden = hidden.map(|hidden| hidden.get()).unwrap_or_default();
        let out_of_sight = |field: Option<&str>| hidden.iter().any(|out_of_sight| within(field, out_of_sight));
        let shown_at_its_field = |field: Option<&str>| fields.iter().any(|known| within(field, known)) && !out_of_sight(field);
        let unplaced: Vec<String> = all
            .iter()
            .filter(|(field, _)| !shown_at_its_field(field.as_deref()))
            .map(|(field, message)| match field {
                Some(field) if out_of_sight(Some(field)) => format!("{field} (in a section switched off): {message}"),
                Some(field) => format!("{field}: {message}"),
                None => message.clone(),
            })
            .collect();
        let text = match (unplaced.as_slice(), all.len()) {
            ([], 1) => return None,
            // Each is shown at its field; say how many there are to fix.
            ([], count) => format!("{count} settings need attention: each says why at its field."),
            _ => unplaced.join(" "),
        };
        Some(view! {
            <div class="alert error" role="alert">
                {text}
            </div>
        })
    }
}

/// The confirmation of what the page before did, told by its address: `?{param}=<what>`
/// (such as `?deleted=<id>` after a deletion that returned to a list) gets `text(what)`.
#[component]
pub fn DoneNotice(param: &'static str, text: fn(&str) -> String) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    // Only an id: the address is anyone's to write, and this is a confirmation, not a message.
    let is_id = |what: &str| {
        (1..=64).contains(&what.len()) && what.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    move || {
        query.read().get(param).filter(|what| is_id(what)).map(|what| {
            view! {
                <div class="alert ok" role="status" id="done-notice">
                    {text(&what)}
                </div>
            }
        })
    }
}

/// A pill label.
#[component]
pub fn Badge(#[prop(into)] text: String, tone: &'static str) -> impl IntoView {
    view! { <span class=format!("badge {tone}")>{text}</span> }
}

/// How a client came to be: registered by a TPP through DCR, or created in the console.
#[component]
pub fn RegistrationBadge(dynamically_registered: bool) -> impl IntoView {
    if dynamically_registered {
        view! { <Badge text="DCR" tone="dcr" /> }
    } else {
        view! { <Badge text="Manual" tone="neutral" /> }
    }
}

/// Whether a workspace accepts dynamic registrations.
#[component]
pub fn DcrBadge(enabled: bool) -> impl IntoView {
    if enabled {
        view! { <Badge text="DCR on" tone="ok" /> }
    } else {
        view! { <Badge text="DCR off" tone="neutral" /> }
    }
}

/// "1 application", "3 applications".
pub fn application_count<N: std::fmt::Display + PartialEq + From<u8> + Copy>(count: N) -> String {
    if count == N::from(1) { "1 application".to_owned() } else { format!("{count} applications") }
}

/// `base` with a query string of `pairs`, each encoded (a search may hold `&`, `#` or `%`);
/// a pair with an empty value is left out, and so is the `?` when none is left.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
        .finish();
    if query.is_empty() { base.to_owned() } else { format!("{base}?{query}") }
}

/// A distinguished name that may wrap after each of its commas, not inside its attributes, as
/// a long DN must in a table cell; selected and copied, it is the DN as written.
#[component]
#[expect(clippy::needless_pass_by_value, reason = "a component's props are owned")]
pub fn WrappingDn(#[prop(into)] dn: String) -> impl IntoView {
    dn.split_inclusive(',').map(|part| view! { {part.to_owned()}<wbr /> }).collect_view()
}

/// A moment to the minute, in UTC, for a table whose column header says "(UTC)".
pub fn minute(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A moment to the second, in UTC, for a table whose column header says "(UTC)".
pub fn second(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A moment to the second, saying it is UTC, where no header does.
pub fn second_utc(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A value, or a muted dash where there is none.
pub fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

/// How long a toast stays up.
const TOAST_SECONDS: u64 = 4;

/// A toast in the corner for a few seconds after a save: `outcome` is `Some(true)` when the
/// save succeeded, `Some(false)` when it failed (the form shows why), `None` before or while
/// saving.
#[component]
pub fn SaveToast(#[prop(into)] outcome: Signal<Option<bool>>, saved: &'static str) -> impl IntoView {
    let visible = RwSignal::new(false);
    // Each save restarts the timer; an older timer must not hide a newer toast.
    let shown = StoredValue::new(0_u64);
    Effect::new(move |_| {
        // A new save hides the last one's toast, so a toast always speaks of the latest save.
        if outcome.get().is_none() {
            visible.set(false);
            return;
        }
        if outcome.get() == Some(false) {
            request_animation_frame(show_first_problem);
        }
        let generation = shown.get_value() + 1;
        shown.set_value(generation);
        visible.set(true);
        // The page may be gone by then (the administrator navigated away): a timer outliving
        // its signals leaves them alone.
        set_timeout(
            move || {
                if shown.try_get_value() == Some(generation) {
                    visible.try_set(false);
                }
            },
            std::time::Duration::from_secs(TOAST_SECONDS),
        );
    });
    // The live region is empty until a save ends, so screen readers announce the outcome and
    // nothing claims "saved" before it is.
    let message = move || match outcome.get() {
        Some(true) => saved,
        Some(false) => "Not saved: the form shows what to fix",
        None => "",
    };
    let failed = move || outcome.get() == Some(false);
    view! {
        <div class="toast" class:visible=visible class:error=failed role="status" aria-live="polite">
            {message}
        </div>
    }
}

/// After a failed save, brings the first problem into view: the input of the first field with
/// an error gets the focus (the browser scrolls to it), else the message itself is shown.
fn show_first_problem() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        let Some(message) = document().query_selector("form .field-error, form .alert.error").ok().flatten() else {
            return;
        };
        let input = message
            .closest(".field")
            .ok()
            .flatten()
            .and_then(|field| field.query_selector("input, textarea, select").ok().flatten())
            .and_then(|input| input.dyn_into::<web_sys::HtmlElement>().ok());
        // Centred: at the edge of the window, the sticky Save bar would cover the message.
        let centred = web_sys::ScrollIntoViewOptions::new();
        centred.set_block(web_sys::ScrollLogicalPosition::Center);
        match input {
            Some(input) => {
                let without_scrolling = web_sys::FocusOptions::new();
                without_scrolling.set_prevent_scroll(true);
                let _ = input.focus_with_options(&without_scrolling);
                message.scroll_into_view_with_scroll_into_view_options(&centred);
            }
            None => message.scroll_into_view_with_scroll_into_view_options(&centred),
        }
    }
}

/// How long a Copy button says "Copied".
const COPIED_SECONDS: u64 = 2;

/// A read-only value with a button that copies it.
#[component]
pub fn CopyField(#[prop(into)] label: String, #[prop(into)] value: String, #[prop(into)] id: String) -> impl IntoView {
    let label_for = id.clone();
    view! {
        <div class="copy-field">
            <label for=label_for>{label}</label>
            <div class="copy-row">
                <input id=id readonly value=value.clone() class="mono" />
                <CopyButton text=value label="Copy" />
            </div>
        </div>
    }
}

/// A button that copies `text` to the clipboard, saying so for a moment.
#[component]
pub fn CopyButton(#[prop(into)] text: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(window) = web_sys_window() {
                let _ = window.navigator().clipboard().write_text(&text);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
        copied.set(true);
        set_timeout(move || _ = copied.try_set(false), std::time::Duration::from_secs(COPIED_SECONDS));
    };
    view! {
        <button type="button" class="button secondary small" on:click=copy>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn web_sys_window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Opens `dialog` as a modal (the page behind it inert) or closes it; opened, the first
/// element matching `focus` (e.g. its first button, as the one to press) takes the focus.
pub fn show_modal(dialog: NodeRef<leptos::html::Dialog>, shown: bool, focus: Option<&'static str>) {
    #[cfg(feature = "hydrate")]
    if let Some(dialog) = dialog.get() {
        if shown && !dialog.open() {
            let _ = dialog.show_modal();
        } else if !shown && dialog.open() {
            dialog.close();
        }
        if let Some(selector) = focus.filter(|_| shown) {
            // Once the dialog's content is drawn.
            request_animation_frame(move || {
                use leptos::wasm_bindgen::JsCast as _;
                let first = dialog.query_selector(selector).ok().flatten();
                if let Some(element) = first.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = element.focus();
                }
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dialog, shown, focus);
}

/// Moves the focus with a two-step confirmation, so a keyboard never loses its place: into
/// `question` (its first enabled button, the one that confirms) when `confirming` opens it,
/// back to `trigger` (the button that opened it) when it closes. A screen reader announces
/// the question (`role="alertdialog"`) as its button takes the focus.
pub fn focus_follows_confirmation(
    confirming: RwSignal<bool>,
    question: NodeRef<leptos::html::Div>,
    trigger: NodeRef<leptos::html::Button>,
) {
    Effect::new(move |was_open: Option<bool>| {
        let open = confirming.get();
        #[cfg(feature = "hydrate")]
        if was_open.is_some_and(|was_open| was_open != open) {
            // Once the question or the trigger is shown again.
            request_animation_frame(move || {
                use leptos::wasm_bindgen::JsCast as _;
                let target: Option<web_sys::HtmlElement> = if open {
                    let question = question.get_untracked();
                    let first = question.and_then(|question| question.query_selector("button:not([disabled])").ok().flatten());
                    first.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                } else {
                    trigger.get_untracked().map(Into::into)
                };
                if let Some(target) = target {
                    let _ = target.focus();
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (was_open, question, trigger);
        open
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_may_report_several_problems() {
        let error: ServerFnError = ServerFnError::ServerError(
            "ssa_issuers: name one\u{1e}ssa_issuers[0].jwks: required\u{1e}not a field line".to_owned(),
        );
        let parsed = field_error(&error);
        assert_eq!(parsed.0, None);
        assert_eq!(
            problems(&parsed),
            [
                (Some("ssa_issuers".to_owned()), "name one".to_owned()),
                (Some("ssa_issuers[0].jwks".to_owned()), "required".to_owned()),
                (None, "not a field line".to_owned())
            ]
        );
        assert!(concerns(Some("limits.registrations"), "limits") && !concerns(Some("limitsx"), "limits"));
        let one = field_error(&ServerFnError::ServerError("rules[1].value: regex parse error:\n    (unclosed".to_owned()));
        assert_eq!(problems(&one), [(Some("rules[1].value".to_owned()), "regex parse error:\n    (unclosed".to_owned())]);
        assert!(within(Some("rules[0].field"), "rules") && !concerns(Some("rules[0].field"), "rules"));
    }

    #[test]
    fn field_messages_read_as_sentences() {
        assert_eq!(sentence_case("name at least one issuer"), "Name at least one issuer");
        assert_eq!(sentence_case("keys[0] contains private key material"), "keys[0] contains private key material");
        assert_eq!(sentence_case("token_endpoint_auth_method is not allowed"), "token_endpoint_auth_method is not allowed");
        assert_eq!(sentence_case("'x' is not a usable issuer"), "'x' is not a usable issuer");
        assert_eq!(sentence_case(""), "");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(with_query("/a", &[("q", "x&y=#1 %"), ("page", "2")]), "/a?q=x%26y%3D%231+%25&page=2");
        assert_eq!(with_query("/a", &[("outcome", ""), ("type", "dcr_read")]), "/a?type=dcr_read");
        assert_eq!(with_query("/a", &[("q", "")]), "/a");
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(
            (application_count(1_usize), application_count(0_i64), application_count(3_i64)),
            ("1 application".to_owned(), "0 applications".to_owned(), "3 applications".to_owned())
        );
    }
}
