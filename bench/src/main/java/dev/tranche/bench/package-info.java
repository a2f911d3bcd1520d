/**
 * `tranche bench`, a module of its own (benchmarks are not product code: the server does not import them):
 * the published openb placement benchmark
 * ({@link dev.tranche.bench.PlacementBenchmark}, fed by
 * {@link dev.tranche.bench.OpenbTraceReader}) and a synthetic scale benchmark
 * ({@link dev.tranche.bench.ScaleBenchmark}). They place through the same
 * {@link dev.tranche.scheduler.core.placement.Placer} as the scheduling cycle.
 */
package dev.tranche.bench;
