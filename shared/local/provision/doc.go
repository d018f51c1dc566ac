// Package provision creates the SAM template's resources in the local AWS
// emulator (moto) by API calls: DynamoDB tables with their indexes, TTL and
// point-in-time recovery; Step Functions state machines with their
// DefinitionSubstitutions applied and an IAM role each; plus the SES sender
// identity and sample IAM roles the local cloud needs. Every operation is
// create-if-missing, so Apply can run again on a live emulator.
//
// It must not deploy through CloudFormation (moto cannot run SAM templates),
// start or stop the emulator (package moto does), or talk to real AWS: its
// aws.Config must point at the emulator (see EmulatorConfig).
package provision
