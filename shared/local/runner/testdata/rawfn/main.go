// Command rawfn is a minimal hand-written Runtime API client for the runner
// tests: it reports an init error through /runtime/init/error, which
// aws-lambda-go never does, then exits.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
)

func main() {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	body := `{"errorType":"Runtime.ConfigError","errorMessage":"TABLE_NAME is not set"}`
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = resp.Body.Close()
	fmt.Println("init error status", resp.StatusCode)
	os.Exit(1)
}
