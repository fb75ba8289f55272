//! Rego policies run in worker processes (`onboard policy-worker`): whatever a policy does
//! there, the evaluation fails closed and the next one gets a working process.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::PathBuf;

use serde_json::json;

use app::policy::RegoSandbox;

fn sandbox() -> RegoSandbox {
    RegoSandbox::new(PathBuf::from(env!("CARGO_BIN_EXE_onboard")), 2)
}

const ALLOW_ADULTS: &str = "package onboard\n\nallow if input.age >= 18\n\ndeny contains \"no name\" if not input.name\n";

#[tokio::test]
async fn a_worker_checks_and_evaluates_policies() {
    let sandbox = sandbox();
    sandbox.check(ALLOW_ADULTS).await.unwrap();
    let problem = sandbox.check("package onboard\n\nallow if {\n").await.unwrap_err();
    assert_eq!(problem.field, "body");
    assert!(problem.message.starts_with("line "), "{}", problem.message);
    let verdict = sandbox.evaluate(ALLOW_ADULTS, &json!({"age": 30, "name": "Ada"})).await.unwrap();
    assert!(verdict.allow && verdict.deny.is_empty(), "{verdict:?}");
    let verdict = sandbox.evaluate(ALLOW_ADULTS, &json!({"age": 12})).await.unwrap();
    assert_eq!((verdict.allow, verdict.deny), (false, vec!["no name".to_owned()]));
}

/// Each of these ends its worker (out of memory, out of stack) or outlasts the time a worker
/// is given: the evaluation fails, and the next one, in a new worker, works.
#[tokio::test]
async fn a_policy_that_ends_its_worker_fails_and_the_next_evaluation_works() {
    let sandbox = sandbox();
    let runaways = [
        ("gigabytes in one step", "package onboard\n\nallow if count(sprintf(\"%04000000000d\", [1])) > 0\n"),
        ("a function calling itself", "package onboard\n\nf(n) := f(n + 1)\n\nallow if f(1) > 0\n"),
        (
            "a number squared until it is huge",
            "package onboard\n\nsquare(x) := x * x\n\nallow if {\n    a := square(square(square(square(square(square(square(square(\
             square(square(square(square(square(square(square(square(square(square(square(square(square(square(\
             square(square(square(square(square(square(square(square(7))))))))))))))))))))))))))))))\n    a > 0\n}\n",
        ),
    ];
    for (name, module) in runaways {
        let failed = sandbox.evaluate(module, &json!({})).await;
        assert!(failed.is_err(), "{name}: {failed:?}");
        assert!(sandbox.check(module).await.is_err(), "{name}: refused when saved too");
        let verdict = sandbox.evaluate(ALLOW_ADULTS, &json!({"age": 40, "name": "Grace"})).await.unwrap();
        assert!(verdict.allow, "{name}: the next evaluation");
    }
}

/// A message of many megabytes, made in one step, reaches the server cut short.
#[tokio::test]
async fn a_huge_message_is_cut_in_the_worker() {
    let module = "package onboard\n\nallow := true\n\ndeny contains sprintf(\"%050000000d\", [1])\n";
    let verdict = sandbox().evaluate(module, &json!({})).await.unwrap();
    assert_eq!(verdict.deny.iter().map(String::len).collect::<Vec<_>>(), [500]);
}
