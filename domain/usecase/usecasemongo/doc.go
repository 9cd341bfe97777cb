// Package usecasemongo is the MongoDB implementation of usecase.Documents (mongo-driver v2), for
// operators who keep the document-shaped data in MongoDB. PostgreSQL stays the system of record
// for everything relational; usecasetest.Contract holds this store and the PostgreSQL one
// (usecasedocs) to the same behaviour, and runs here against FerretDB 1.24 on PostgreSQL, since
// MongoDB cannot be installed on the machines this project is built on.
//
// # Shape
//
// The collection use_case_documents holds one document per stored version of a use case:
//
//	{_id: "<use case id>/<version>", useCase: "<use case id>", version: 3, content: {title: …, …}}
//
// with a unique index on {useCase: 1, version: -1}. Readers take the highest version; Put inserts
// its version and then deletes the older ones. Content keeps the API's camelCase field names
// (the driver reads usecase.Content's JSON tags).
//
// The plain shape, _id = the use case id and Put as an upsert conditional on {version: {$lt: v}},
// is atomic on MongoDB but not on FerretDB (below), where it lost the newest version in 13 of 20
// rounds of 20 concurrent writers. Inserting is the one write both make atomic: two writers of
// different versions never touch the same document, and a repeated version meets a duplicate
// key. A crash between the insert and the delete leaves older versions behind, which readers
// ignore and the next Put deletes.
//
// # Where FerretDB 1.24 differs from MongoDB, and what this package does about it
//
//   - Updates are not atomic. update, replaceOne and findAndModify read the matching documents
//     with one statement and write each back by _id with another, without a lock between them:
//     a filter such as {version: {$lt: v}} holds when the document is read, not when it is
//     written, so a conditional upsert is no compare-and-set. This package never updates a
//     document: it inserts versions (see Shape).
//   - deleteMany has the same read-then-write split: it deletes by the _ids it found. Deleting
//     {useCase: id, version: {$lt: v}} stays safe only because a version's _id names it: a newer
//     version inserted meanwhile is not among the _ids found.
//   - No validators. create with validator, validationLevel or validationAction answers
//     NotImplemented (238), and so does collMod. EnsureSchema then creates the collection
//     without one and reports validated = false; Put applies the same rules itself (check, from
//     the same Validator) on every server, so both backends refuse the same documents.
//   - $jsonSchema is not a query operator either (BadValue), so the validator cannot be tried on
//     FerretDB even as a query: TestValidator checks its shape instead.
//   - No transactions: a write with startTransaction answers FailedToParse ("unknown field
//     startTransaction"). None is needed: every write here is one document.
//   - Indexes are created and listed, and unique ones are enforced, but queries do not use them:
//     explain shows a sequential scan with a JSONB filter (_jsonb->'useCase' @> '"…"'). Timings
//     on FerretDB are not MongoDB's.
//   - createIndexes naming several indexes that all exist already closes the connection (seen on
//     every second start once the forum's collection had two); one index per command works, so
//     platform/mongo.EnsureCollection creates them one at a time.
//   - Only equality is pushed down to PostgreSQL: a filter such as {useCase: {$in: […]}} reads
//     every document of the collection into FerretDB and filters there (200 ms for 20 ids at
//     4,000 documents, against 5 ms for one equality). forummongo therefore reads a page of
//     replies as {topic: T, post: {$in: […]}}, whose equality narrows the read to one thread.
//   - Strings cannot hold NUL (U+0000): FerretDB stores documents as PostgreSQL JSONB, which
//     refuses it (SQLSTATE 22P05, answered as InternalError); MongoDB stores it. usecasedocs
//     refuses it the same way, so the contract holds; the service should refuse NUL in input.
//   - Operators this package avoids because FerretDB answers them wrongly or not at all:
//     $elemMatch, the positional $ and dotted-path updates (wrong results, silently), arrayFilters
//     and collation (NotImplemented). It uses only insertOne, find and findOne with equality, $in
//     and $lt on top-level fields, a sort and a projection on a top-level field, deleteMany,
//     create, listCollections and createIndexes.
//   - Options FerretDB accepts and ignores: writeConcern, hint, ordered, bypassDocumentValidation,
//     and maxTimeMS on writes (the driver's operation timeout still ends the wait on the client).
//
// What does behave as on MongoDB and the contract relies on: a duplicate _id answers E11000 (so
// mongo.IsDuplicateKeyError works, for inserts and upserts alike), an empty array reads back as an
// empty array and a null as nil, and Arabic text round-trips unchanged.
package usecasemongo
