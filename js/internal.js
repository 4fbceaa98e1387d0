// Access to the private state of the public classes, for the durable classes in
// persistence/ only (set by static blocks of the classes; never exported by the package).
export const internal = {};
