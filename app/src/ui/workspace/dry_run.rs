//! The Dry run page: a registration request goes through the whole pipeline without writing
//! anything, and every check is shown in order with its outcome.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;

use super::use_workspace_path;
use crate::api::dry_run::dry_run_registration;
use crate::api::policies::{PolicySummary, list_policies};
use crate::domain::dry_run::{CheckOutcome, DryRunBody, DryRunReport, DryRunRequest, PipelineCheck};
use crate::domain::ids::PolicyId;
use crate::ui::components::{FieldMessage, FormMessage, error_message, field_error};

#[component]
pub fn DryRunPage() -> impl IntoView {
    let path = use_workspace_path();
    let policies = Resource::new(move || path.get(), |p| list_policies(p.tenant, p.workspace));
    view! {
        <Title text="Dry run" />
        <div class="page-header">
            <div>
                <h1>"Dry run"</h1>
                <p class="lead">
                    "Send a registration request through every check of the register endpoint, and see each one pass or fail. Nothing is registered, recorded or audited."
                </p>
            </div>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                policies
                    .get()
                    .map(|result| match result {
                        Ok(policies) => view! { <DryRunForm policies /> }.into_any(),
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Reads the headers box: one `name: value` per line (a line without a colon is a name, which
/// the server names in its answer if a policy cannot read it).
fn request_headers(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(':') {
            Some((name, value)) => (name.trim().to_owned(), value.trim().to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

/// Reads the request box: a JSON object is claims, anything else a compact JWS. Nothing, or
/// JSON that does not parse, is said at the field before anything runs ("request: ...").
fn request_body(text: &str) -> Result<DryRunBody, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("request: paste the registration request: the signed JWT a TPP sends, or its claims as JSON".to_owned());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(claims)) => Ok(DryRunBody::Claims(claims)),
        Ok(_) => Err("request: JSON claims must be an object: {\"redirect_uris\": [...], ...}".to_owned()),
        Err(error) if text.starts_with('{') => Err(format!("request: the claims are not valid JSON ({error})")),
        Err(_) => Ok(DryRunBody::Jws(text.to_owned())),
    }
}

#[component]
fn DryRunForm(policies: Vec<PolicySummary>) -> impl IntoView {
    let path = use_workspace_path();
    let request = RwSignal::new(String::new());
    let software_statement = RwSignal::new(String::new());
    let certificate = RwSignal::new(String::new());
    let policy = RwSignal::new(String::new());
    let headers = RwSignal::new(String::new());
    let run = Action::new(move |ask: &DryRunRequest| {
        let ask = ask.clone();
        let path = path.get_untracked();
        async move { dry_run_registration(path.tenant, path.workspace, ask).await }
    });
    // A request the form can tell is not one is refused here, without a round trip.
    let unreadable = RwSignal::new(None::<String>);
    let error = Signal::derive(move || match unreadable.get() {
        Some(problem) => Some(field_error(&ServerFnError::new(problem))),
        None => run.value().get().and_then(Result::err).map(|e| field_error(&e)),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = |signal: RwSignal<String>| Some(signal.get()).filter(|t| !t.trim().is_empty());
        let body = match request_body(&request.get()) {
            Ok(body) => body,
            Err(problem) => {
                unreadable.set(Some(problem));
                return;
            }
        };
        unreadable.set(None);
        run.dispatch(DryRunRequest {
            request: body,
            software_statement: text(software_statement),
            client_certificate_pem: text(certificate),
            policy_id: PolicyId::parse(policy.get()).ok(),
            headers: request_headers(&headers.get()),
        });
    };
    view! {
        <form class="settings" on:submit=submit novalidate>
            <section class="card">
                <div class="field">
                    <label for="dry-request">"Registration request"</label>
                    <textarea
                        id="dry-request"
                        class="mono"
                        rows="12"
                        spellcheck="false"
                        bind:value=request
                        placeholder="eyJhbGciOiJQUzI1NiIs… (the signed JWT a TPP sends), or the claims as JSON"
                    ></textarea>
                    <FieldMessage field="request" error />
                </div>
                <div class="form-grid">
                    <div class="field">
                        <label for="dry-ssa">"Software statement (optional)"</label>
                        <textarea id="dry-ssa" class="mono" rows="4" spellcheck="false" bind:value=software_statement></textarea>
                        <p class="hint">"Added to JSON claims; a signed request carries its own."</p>
                        <FieldMessage field="software_statement" error />
                    </div>
                    <div class="field">
                        <label for="dry-certificate">"Client certificate (optional)"</label>
                        <textarea
                            id="dry-certificate"
                            class="mono"
                            rows="4"
                            spellcheck="false"
                            bind:value=certificate
                            placeholder="-----BEGIN CERTIFICATE-----"
                        ></textarea>
                        <p class="hint">"The transport certificate the TPP would present, as PEM."</p>
                        <FieldMessage field="client_certificate_pem" error />
                    </div>
                </div>
                <div class="field">
                    <label for="dry-policy">"Policy"</label>
                    <select id="dry-policy" on:change=move |ev| policy.set(event_target_value(&ev)) prop:value=policy>
                        <option value="">"The one attached to the register endpoint"</option>
                        {policies
                            .into_iter()
                            .map(|p| view! { <option value=p.id.clone()>{format!("{} ({})", p.name, p.language)}</option> })
                            .collect_view()}
                    </select>
                    <p class="hint">"Try a policy before attaching it."</p>
                    <FieldMessage field="policy_id" error />
                </div>
                <div class="field">
                    <label for="dry-headers">"Request headers (optional)"</label>
                    <textarea
                        id="dry-headers"
                        class="mono"
                        rows="3"
                        spellcheck="false"
                        bind:value=headers
                        placeholder="x-fapi-financial-id: 001580000103UAvAAM"
                    ></textarea>
                    <p class="hint">"One header per line, as name: value, for policies that read headers: user-agent, x-fapi-interaction-id, x-fapi-financial-id, x-forwarded-for."</p>
                    <FieldMessage field="headers" error />
                </div>
            </section>
            <FormMessage error fields=&["request", "software_statement", "client_certificate_pem", "headers", "policy_id"] />
            <div class="form-actions spaced">
                <button type="submit" class="button" id="run-dry-run" disabled=move || run.pending().get()>
                    {move || if run.pending().get() { "Running…" } else { "Run the checks" }}
                </button>
            </div>
        </form>
        {move || unreadable.get().is_none().then(|| run.value().get().and_then(Result::ok).map(|report| view! { <Report report /> }))}
    }
}

#[component]
fn Report(report: DryRunReport) -> impl IntoView {
    let verdict = if report.accepted {
        let outcome = if report.warnings.is_empty() {
            " — the endpoint would register this client (201)."
        } else {
            " — the endpoint would register this client (201), given what is noted below."
        };
        view! {
            <div class="verdict accepted" role="status">
                <strong>"Accepted"</strong>
                {outcome}
            </div>
        }
        .into_any()
    } else {
        let error = report.error.clone().unwrap_or_default();
        let description = report.error_description.clone().unwrap_or_default();
        view! {
            <div class="verdict refused" role="status">
                <strong>{format!("Refused ({})", report.status)}</strong>
                <span class="mono">{error}</span>
                <span>{description}</span>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="report-title" id="dry-run-report">
            <h2 id="report-title">"Result"</h2>
            {verdict}
            {(!report.warnings.is_empty()).then(|| {
                view! {
                    <ul class="alert warning verdict-warnings">
                        {report.warnings.into_iter().map(|warning| view! { <li>{warning}</li> }).collect_view()}
                    </ul>
                }
            })}
            <ol class="pipeline-checks">{report.checks.into_iter().map(|check| view! { <CheckRow check /> }).collect_view()}</ol>
        </section>
    }
}

#[component]
fn CheckRow(check: PipelineCheck) -> impl IntoView {
    let (class, mark, label) = match check.outcome {
        CheckOutcome::Passed => ("pipeline-check passed", "✓", "Passed"),
        CheckOutcome::Failed => ("pipeline-check failed", "✗", "Failed"),
        CheckOutcome::Skipped => ("pipeline-check skipped", "–", "Skipped"),
    };
    view! {
        <li class=class>
            <span class="check-mark">
                <span aria-hidden="true">{mark}</span>
                <span class="sr-only">{label}</span>
            </span>
            <span class="check-stage">{check.stage.label()}</span>
            <span class="check-name">{check.name}</span>
            {check.detail.map(|detail| view! { <span class="check-detail">{detail}</span> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_box_is_claims_a_jws_or_a_problem_at_its_field() {
        assert!(
            matches!(request_body(" {\"client_name\": \"x\"} "), Ok(DryRunBody::Claims(claims)) if claims.contains_key("client_name"))
        );
        assert!(
            matches!(request_body("eyJhbGciOiJQUzI1NiJ9.e30.sig"), Ok(DryRunBody::Jws(jws)) if jws == "eyJhbGciOiJQUzI1NiJ9.e30.sig")
        );
        for (text, problem) in
            [("  ", "paste the registration request"), ("{\"a\": ", "not valid JSON"), ("[1]", "must be an object")]
        {
            let refused = request_body(text).err().unwrap_or_default();
            assert!(refused.starts_with("request: ") && refused.contains(problem), "{text:?}: {refused}");
        }
    }
}
