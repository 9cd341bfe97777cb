package peopledb

// DirectorySQL is the directory's query, for the benchmark's plans.
var DirectorySQL = directorySQL
