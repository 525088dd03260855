export const TARGETS: ReadonlyArray<{ name: string; kind: 'library' | 'cli'; weight: number }>;
