export declare const TEST_ROOTS: readonly string[];
export declare function testFiles(root?: string): string[];
