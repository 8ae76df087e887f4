/**
 * Building DOM nodes from data: text always goes in as text nodes, never as markup, so a
 * reference or description cannot inject anything into the page.
 */

export type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | null | EventListener>;

export const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
};

const SVG_NS = 'http://www.w3.org/2000/svg';

export const svg = (tag: string, attributes: Attributes = {}, ...children: Child[]): SVGElement => {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
};

const setAttributes = (node: Element, attributes: Attributes): void => {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
};

const append = (node: Node, children: Child[]): void => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
};

/** Replaces everything inside `node`. */
export const replaceChildren = (node: Element, ...children: Child[]): void => {
  node.replaceChildren();
  append(node, children);
};
