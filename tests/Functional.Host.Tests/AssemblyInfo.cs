// Seeds set torch's one global generator, so tests that compare seeded runs must not interleave with
// other tests drawing random numbers: run the test classes one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
