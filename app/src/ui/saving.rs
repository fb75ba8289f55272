//! How a form is saved: a server function's action, the errors and outcome it reports, and
//! the form's unsaved changes, said beside its Save button and asked about before the page is
//! left by a link to another tab of the console, a reload or the window's closing. The
//! browser's Back and Forward buttons are not asked about (they change the page without an
//! event that can be held); the note beside Save still says what is unsaved.

use leptos::prelude::*;

use super::components::field_error;
use super::password_confirmation::{PasswordConfirmation, asks_for_password, retried_after_confirmation};

/// A form saved by a server function (`action`): the field errors of its last save, how that
/// save ended (`None` before or while saving) and its unsaved changes. A save refused until the
/// administrator confirms their password is made again once they have.
pub struct FormSave<T: Send + Sync + 'static, R: Send + Sync + 'static> {
    action: Action<T, Result<R, ServerFnError>>,
    pub error: Signal<Option<(Option<String>, String)>>,
    pub outcome: Signal<Option<bool>>,
    pub unsaved: UnsavedChanges<T>,
}

impl<T: Send + Sync + 'static, R: Send + Sync + 'static> Clone for FormSave<T, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static, R: Send + Sync + 'static> Copy for FormSave<T, R> {}

impl<T: Clone + PartialEq + Send + Sync + 'static, R: Clone + Send + Sync + 'static> FormSave<T, R> {
    /// `current` reads the form's values; `what` is the save, as the question for the password
    /// names it ("save the DCR settings").
    pub fn new(
        action: Action<T, Result<R, ServerFnError>>,
        what: &'static str,
        current: impl Fn() -> T + Send + Sync + Copy + 'static,
    ) -> Self {
        retried_after_confirmation(action, what);
        // While the password is being asked for, the form does not say it was: once it is
        // cancelled, the form says why nothing was saved.
        let confirmation = use_context::<PasswordConfirmation>();
        let error = Signal::derive(move || {
            let error = action.value().get().and_then(Result::err)?;
            let asking = confirmation.is_some_and(PasswordConfirmation::asking);
            (!(asking && asks_for_password(&error))).then(|| field_error(&error))
        });
        // A save waiting for the password to be confirmed has not ended yet: no toast says so.
        let outcome = Signal::derive(move || {
            if action.pending().get() {
                return None;
            }
            action.value().with(|answer| match answer {
                Some(Err(error)) if asks_for_password(error) => None,
                answer => answer.as_ref().map(Result::is_ok),
            })
        });
        Self { action, error, outcome, unsaved: UnsavedChanges::track(current, outcome) }
    }

    /// The form's submit handler: saves what `current` reads.
    pub fn submit(self, current: impl Fn() -> T + Copy + 'static) -> impl Fn(leptos::ev::SubmitEvent) + Copy + 'static {
        move |event| {
            event.prevent_default();
            let form = current();
            self.unsaved.saving(&form);
            self.action.dispatch(form);
        }
    }
}

/// The order of a form's rows (by their keys) in the save last answered. The server names a
/// row's problem by its place in what was saved (`rules[2].value`): placed by this order, a
/// problem stays with its row while rows are added, removed or moved since.
pub struct SavedOrder<K: Send + Sync + 'static> {
    submitted: RwSignal<Vec<K>>,
    /// The keys of the rows being saved, until the answer comes.
    pending: StoredValue<Vec<K>>,
}

impl<K: Send + Sync + 'static> Clone for SavedOrder<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: Send + Sync + 'static> Copy for SavedOrder<K> {}

impl<K: Clone + PartialEq + Send + Sync + 'static> SavedOrder<K> {
    /// Rows as loaded, in the order they were last saved.
    pub fn new(keys: Vec<K>) -> Self {
        Self { submitted: RwSignal::new(keys.clone()), pending: StoredValue::new(keys) }
    }

    /// Notes the rows being saved, `keys` in the form's order.
    pub fn submitting(self, keys: Vec<K>) {
        self.pending.set_value(keys);
    }

    /// The save's answer came: its problems are placed by the rows it saved.
    pub fn answered(self) {
        let keys = self.pending.get_value();
        if self.submitted.with_untracked(|submitted| *submitted != keys) {
            self.submitted.set(keys);
        }
    }

    /// Where row `key` was in the save last answered, if it was in it.
    pub fn position(self, key: &K) -> Option<usize> {
        self.submitted.with(|keys| keys.iter().position(|submitted| submitted == key))
    }

    /// Whether the save last answered had no rows.
    pub fn none_saved(self) -> bool {
        self.submitted.with(Vec::is_empty)
    }
}

/// What a form holds against what was last saved.
pub struct UnsavedChanges<T: Send + Sync + 'static> {
    /// What is being saved just now, to become the baseline once saved.
    saving: StoredValue<Option<T>>,
    pub dirty: Memo<bool>,
}

// Handles to reactive values, whatever the form's type (a derive would ask `T: Copy`).
impl<T: Send + Sync + 'static> Clone for UnsavedChanges<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UnsavedChanges<T> {}

/// Asked when a page with unsaved changes is about to be left by a link.
const LEAVE_QUESTION: &str = "Leave this page? Your changes are not saved.";

impl<T: Clone + PartialEq + Send + Sync + 'static> UnsavedChanges<T> {
    /// Tracks `current` (the form's values) against the values it starts with, and against
    /// each one saved since (`saved` turns `Some(true)` after a successful save).
    pub fn track(current: impl Fn() -> T + Send + Sync + Copy + 'static, saved: Signal<Option<bool>>) -> Self {
        let baseline = RwSignal::new(untrack(current));
        let saving = StoredValue::new(None::<T>);
        let dirty = Memo::new(move |_| baseline.with(|baseline| *baseline != current()));
        Effect::new(move |_| {
            if saved.get() == Some(true)
                && let Some(saved) = saving.get_value()
            {
                baseline.set(saved);
            }
        });
        ask_before_leaving(dirty);
        Self { saving, dirty }
    }

    /// Notes `form` as the one being saved.
    pub fn saving(&self, form: &T) {
        self.saving.set_value(Some(form.clone()));
    }
}

/// "Unsaved changes", beside a Save button while there are some.
#[component]
pub fn UnsavedNote(dirty: Memo<bool>) -> impl IntoView {
    view! {
        <span class="unsaved-note" class:hidden=move || !dirty.get() role="status">
            "Unsaved changes"
        </span>
    }
}

/// While `dirty`, a link elsewhere in the console asks first, and so does the browser before
/// the page is reloaded or closed.
fn ask_before_leaving(dirty: Memo<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast as _;
        use leptos::wasm_bindgen::closure::Closure;

        let unload = window_event_listener(leptos::ev::beforeunload, move |event| {
            if dirty.get_untracked() {
                event.prevent_default();
            }
        });
        // In the capture phase, before the router sees the click and navigates. Only a plain
        // click on a link that opens here: one that opens a new tab or window, or downloads,
        // leaves the form where it is.
        let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |event: web_sys::MouseEvent| {
            let opens_elsewhere =
                event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
            let leaves = !opens_elsewhere
                && event
                    .target()
                    .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                    .and_then(|element| {
                        element.closest("a[href]:not([target]):not([download]):not([rel~=external])").ok().flatten()
                    })
                    .is_some();
            if leaves && dirty.get_untracked() && !window().confirm_with_message(LEAVE_QUESTION).unwrap_or(true) {
                event.prevent_default();
                event.stop_propagation();
            }
        });
        let listener = on_click.as_ref().unchecked_ref::<web_sys::js_sys::Function>().clone();
        let _ = document().add_event_listener_with_callback_and_bool("click", &listener, true);
        // Kept until the form goes, then removed with its closure (browser objects are not
        // `Send`; this runs on the page's one thread).
        let held = send_wrapper::SendWrapper::new((listener, on_click));
        on_cleanup(move || {
            unload.remove();
            let (listener, on_click) = held.take();
            let _ = document().remove_event_listener_with_callback_and_bool("click", &listener, true);
            drop(on_click);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dirty, LEAVE_QUESTION);
}
