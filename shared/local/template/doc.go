// Package template reads the project's SAM template (template.yaml) for the
// local cloud: it turns CloudFormation short-form tags (!Ref, !GetAtt, !Sub,
// ...) into their long forms, extracts the functions, HTTP routes, DynamoDB
// tables and state machines the local cloud needs, and resolves intrinsic
// functions against local physical names.
//
// It owns only reading and resolving. It must not call AWS or the emulator,
// start processes or write files; the provision package creates resources
// from what this package describes. It is not a general CloudFormation
// engine: conditions (!If, !Equals, ...) and mappings are rejected with an
// "unsupported locally" error rather than evaluated.
package template
