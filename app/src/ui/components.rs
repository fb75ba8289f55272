//! Small pieces the console's pages share: messages from server functions, field errors, page
//! headers, badges, copy buttons.

use leptos::prelude::*;

/// The message a server function failed with, without the framework's prefix.
pub fn error_message(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

/// Splits a settings error "field: message" into the field it concerns and the message.
pub fn field_error(error: &ServerFnError) -> (Option<String>, String) {
    let message = error_message(error);
    match message.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') && !field.is_empty() => (Some(field.to_owned()), rest.to_owned()),
        _ => (None, message),
    }
}

/// A message under a form field, shown when the last error concerns `field`.
#[component]
pub fn FieldMessage(#[prop(into)] field: String, error: Signal<Option<(Option<String>, String)>>) -> impl IntoView {
    move || {
        error.get().filter(|(f, _)| f.as_deref().is_some_and(|f| f == field || f.starts_with(&format!("{field}.")))).map(
            |(_, message)| {
                view! {
                    <p class="field-error" role="alert">
                        {message}
                    </p>
                }
            },
        )
    }
}

/// The form-level message for errors that name no field of the form.
#[component]
pub fn FormMessage(error: Signal<Option<(Option<String>, String)>>, fields: &'static [&'static str]) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|(field, _)| {
                field.as_deref().is_none_or(|f| !fields.iter().any(|known| f == *known || f.starts_with(&format!("{known}."))))
            })
            .map(|(field, message)| {
                let text = match field {
                    Some(field) => format!("{field}: {message}"),
                    None => message,
                };
                view! {
                    <div class="alert error" role="alert">
                        {text}
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

/// `base` with a query string of `pairs`, each encoded (a search may hold `&`, `#` or `%`).
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{base}?{query}")
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

/// A read-only value with a button that copies it.
#[component]
pub fn CopyField(#[prop(into)] label: String, #[prop(into)] value: String, #[prop(into)] id: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = value.clone();
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
    };
    let label_for = id.clone();
    view! {
        <div class="copy-field">
            <label for=label_for>{label}</label>
            <div class="copy-row">
                <input id=id readonly value=value class="mono" />
                <button type="button" class="button secondary small" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn web_sys_window() -> Option<web_sys::Window> {
    web_sys::window()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(with_query("/a", &[("q", "x&y=#1 %"), ("page", "2")]), "/a?q=x%26y%3D%231+%25&page=2");
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(
            (application_count(1_usize), application_count(0_i64), application_count(3_i64)),
            ("1 application".to_owned(), "0 applications".to_owned(), "3 applications".to_owned())
        );
    }
}
