//! `/app/administrators`: everyone who can sign in to the console, when each last did, how many
//! sessions are signed in as them now, and whether sign-in as them is locked. Administrators
//! are added, given a new password or signed out everywhere on the command line.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{Badge, error_message, minute};
use super::layout::TopBar;
use super::two_step::recovery_codes;
use crate::api::administrators::list_administrators;
use crate::domain::account::{AdministratorOverview, RECOVERY_CODES_RUNNING_LOW, TwoStepState};

/// The path of this page.
pub const ADMINISTRATORS_PATH: &str = "/app/administrators";

#[component]
pub fn AdministratorsPage() -> impl IntoView {
    let administrators = Resource::new(|| (), |()| list_administrators());
    view! {
        <Title text="Administrators" />
        <TopBar />
        <main class="page">
            <div class="page-header">
                <div>
                    <h1>"Administrators"</h1>
                    <p class="lead">
                        "Everyone who can sign in to this console. An operator adds administrators, gives one a new password, signs one out everywhere, or turns off the two-step sign-in of one who lost their phone on the server's command line: "
                        <span class="mono">"onboard admin create-user"</span>
                        ", "
                        <span class="mono">"set-password"</span>
                        ", "
                        <span class="mono">"sign-out"</span>
                        " and "
                        <span class="mono">"reset-two-step"</span>
                        ". Each administrator turns two-step sign-in on for themselves, on their account page."
                    </p>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading administrators…"</p> }>
                {move || {
                    administrators
                        .get()
                        .map(|result| match result {
                            Ok(administrators) => view! { <AdministratorsTable administrators /> }.into_any(),
                            Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}

/// One row per administrator.
#[component]
fn AdministratorsTable(administrators: Vec<AdministratorOverview>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" id="administrators">
                <thead>
                    <tr>
                        <th scope="col">"Administrator"</th>
                        <th scope="col">"Created (UTC)"</th>
                        <th scope="col">"Last signed in (UTC)"</th>
                        <th scope="col">"Signed in now"</th>
                        <th scope="col">"Two-step"</th>
                        <th scope="col">"Sign-in"</th>
                    </tr>
                </thead>
                <tbody>
                    {administrators
                        .into_iter()
                        .map(|administrator| {
                            view! {
                                <tr>
                                    <td>
                                        <span class="mono small">{administrator.email}</span>
                                        " "
                                        {administrator.you.then(|| view! { <Badge text="You" tone="info" /> })}
                                    </td>
                                    <td class="nowrap">{minute(administrator.created_at)}</td>
                                    <td class="nowrap">{administrator.last_signed_in_at.map_or_else(|| "Never".to_owned(), minute)}</td>
                                    <td>{session_count(administrator.signed_in_sessions)}</td>
                                    <td>
                                        {match administrator.two_step {
                                            TwoStepState::On => view! { <Badge text="On" tone="ok" /> },
                                            TwoStepState::Off => view! { <Badge text="Off" tone="neutral" /> },
                                            TwoStepState::Blocked => view! { <Badge text="Blocked: too many wrong codes" tone="bad" /> },
                                        }}
                                        {administrator.recovery_codes_left.map(|left| {
                                            view! {
                                                <span class="recovery-left small" class:warning-text=left <= RECOVERY_CODES_RUNNING_LOW>
                                                    {format!("{} left", recovery_codes(left))}
                                                </span>
                                            }
                                        })}
                                    </td>
                                    <td>
                                        {match administrator.locked_until {
                                            Some(until) => {
                                                view! { <Badge text=format!("Locked until {} UTC", minute(until)) tone="bad" /> }
                                                    .into_any()
                                            }
                                            None => view! { <Badge text="Not locked" tone="ok" /> }.into_any(),
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "No session", "1 session", "3 sessions".
fn session_count(count: u64) -> String {
    match count {
        0 => "No session".to_owned(),
        1 => "1 session".to_owned(),
        count => format!("{count} sessions"),
    }
}

#[cfg(test)]
mod tests {
    use super::session_count;

    #[test]
    fn session_counts_read_naturally() {
        assert_eq!(session_count(0), "No session");
        assert_eq!(session_count(1), "1 session");
        assert_eq!(session_count(4), "4 sessions");
    }
}
