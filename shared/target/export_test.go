package target

// Register lets tests add a provider the way a provider's file does.
var Register = register
