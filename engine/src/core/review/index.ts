/** Reviewing model answers: the review file, blinding, staleness and progress (pure). */
export * from './reviewFile';
export * from './blinding';
export * from './reviewStatus';
