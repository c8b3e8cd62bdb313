/** Offline heap snapshot analysis: parser, graph algorithms, suspects. No process or CLI concerns. */
export { SnapshotFormatError } from './errors';
export { SnapshotParser, type RawSnapshot } from './parser';
export { loadSnapshot, isGzipFile, type LoadOptions } from './load';
export { HeapSnapshot } from './snapshot';
export { StringTable } from './string-table';
export { layoutFromHeader, type SnapshotLayout } from './meta';
export { buildDominatorTree, retainedSizes, dominatorChildren, type CsrGraph, type DominatorTree } from './dominators';
export { buildRetainerIndex, retainerPath, type RetainerIndex } from './retainers';
export { analyzeHeap, type HeapAnalysis } from './heap-analysis';
export { groupByKindAndHolder, summarizeByConstructor, type Group, type ConstructorSummary } from './aggregate';
export { suspectsFromSnapshot, suspectsFromDiff, diffSnapshots, summarizeBaseline, formatBytes, type Suspect, type BaselineSummary, type DiffResult, type Growth } from './suspects';
export { analyzeFiles, verdictBasis, type AnalysisReport } from './run';
export { redactSnapshot, type RedactResult } from './redact';
export { topAllocationSites, isSamplingHeapProfile, type AllocationSite, type SamplingHeapProfile } from './heap-profile';
