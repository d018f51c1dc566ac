// Package runner runs the project's Go Lambda functions locally as real
// processes: each function's `bootstrap` binary (built with aws-lambda-go and
// -tags lambda.norpc) is started with the standard Lambda environment and
// talks to an in-process implementation of the Lambda Runtime API
// (2018-06-01), exactly as it would in AWS.
//
// It owns the function processes and their lifecycle: a bounded pool per
// function (pre-warmed by Start, scaled up to Function.Concurrency on
// demand, queued beyond that), invocation dispatch, the function timeout
// (the process is killed and the invocation fails with Sandbox.Timedout),
// crash detection (Runtime.ExitError, restarted lazily), crashes injected
// on demand for failure tests (Crash), log forwarding and statistics.
// Every process gets its own Runtime API listener on 127.0.0.1:0, because
// the Runtime API identifies a caller only by the address it was given,
// and the runner must know which process holds an invocation to kill it on
// timeout.
//
// It must not speak the public Lambda API (the edge package maps HTTP
// invocations onto Runner.Invoke), build binaries, read the SAM template or
// call AWS or the emulator. Function processes get a clean environment (not
// the runner's), so a developer's real AWS credentials or profile never leak
// into a local function; whatever they need (endpoint, dummy credentials,
// template variables) comes from Function.Env.
package runner
