// Package moto runs and controls a moto server (the Python AWS emulator)
// for the local cloud: it checks the project's virtualenv and moto version,
// starts moto_server on its own process group with TZ=UTC and MOTO_PORT set
// to the port of the edge that serves Lambda invokes, waits until it
// answers, switches on Step Functions execution, and stops it without
// leaving processes behind.
//
// It owns the moto process and moto's /moto-api control endpoints only. It
// must not create AWS resources (the provision package does), install
// Python packages (`make venv` does), or signal processes it did not start.
package moto
