package activitydb

// FeedSQL is a feed's query, for the benchmark's plans.
var FeedSQL = feedSQL
