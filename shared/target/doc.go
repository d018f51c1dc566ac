// Package target owns what a grant changes: a Target is a provider's name
// and that provider's own parameters, and a Kind is what a provider says
// about its parameters (their shapes, how people read them, how an active
// grant is used) without any AWS client.
//
// The policy validates a target by asking its Kind; pages, messages, the
// audit trail and the CLI show and use a target through its Kind; the
// store keeps the parameters as one map. None of them names a provider's
// fields, so a new provider adds a file here (its Kind, registered in
// kinds), its implementation in package grant, its wiring and its docs.
//
// It must not call AWS or know how grants are made.
package target
