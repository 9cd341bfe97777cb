-- The SuperTokens core keeps its tables in a database of its own next to the system of record.
CREATE DATABASE supertokens OWNER p2p;
