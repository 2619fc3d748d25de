/** Typed readers of a node's attributes, each with a default for an absent attribute. */
import type { Node } from './model.js';

export interface AttributeReader {
  int(name: string, d: number): number;
  ints(name: string, d: number[]): number[];
  float(name: string, d: number): number;
  string(name: string, d: string): string;
}

export function attributeReader(node: Node): AttributeReader {
  const attr = (name: string) => node.attrs[name];
  return {
    int: (name, d) => {
      const a = attr(name);
      return a?.type === 'int' ? a.value : d;
    },
    ints: (name, d) => {
      const a = attr(name);
      return a?.type === 'ints' ? a.value : d;
    },
    float: (name, d) => {
      const a = attr(name);
      return a?.type === 'float' ? a.value : a?.type === 'int' ? a.value : d;
    },
    string: (name, d) => {
      const a = attr(name);
      return a?.type === 'string' ? a.value : d;
    },
  };
}
