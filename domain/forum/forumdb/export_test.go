package forumdb

// SearchCandidates is searchCandidates, for the tests of the bound.
const SearchCandidates = searchCandidates
