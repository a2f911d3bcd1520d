/**
 * Benchmarks of the core that the CLI exposes: the published openb placement benchmark
 * ({@link dev.tranche.scheduler.bench.PlacementBenchmark}, fed by
 * {@link dev.tranche.scheduler.bench.OpenbTraceReader}) and a synthetic scale benchmark
 * ({@link dev.tranche.scheduler.bench.ScaleBenchmark}). They place through the same
 * {@link dev.tranche.scheduler.core.placement.Placer} as the scheduling cycle.
 */
package dev.tranche.scheduler.bench;
