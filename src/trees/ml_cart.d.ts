// Minimal typings for ml-cart 2.1.1 (the package ships none). Only what tfjs-qat uses.
declare module 'ml-cart' {
  /** Options shared by both ml-cart trees. */
  export interface CartOptions {
    gainFunction?: string;
    splitFunction?: string;
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    train(trainingSet: number[][], labels: number[]): void;
    predict(toPredict: number[][]): number[];
    toJSON(): { options: CartOptions; root: unknown; name: 'DTClassifier' };
    root: unknown;
    static load(model: unknown): DecisionTreeClassifier;
  }
  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    train(trainingSet: number[][] | number[], values: number[]): void;
    predict(toPredict: number[][] | number[]): number[];
    toJSON(): { options: CartOptions; root: unknown; name: 'DTRegression' };
    root: unknown;
    static load(model: unknown): DecisionTreeRegression;
  }
}
