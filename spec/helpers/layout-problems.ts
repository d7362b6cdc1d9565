import type { Page } from 'playwright-core';

export interface LayoutReport {
  /**
   * Visible elements (screen-reader-only ones aside) whose box ends past the viewport's right edge, or starts left of
   * 0: "tag#id.class (left–right)".
   */
  readonly overflowing: string[];
  /** The page's scroll width against the viewport's: equal when nothing scrolls sideways. */
  readonly scrollWidth: number;
  readonly viewportWidth: number;
}

/**
 * Measures the page as laid out now. Browser-side code goes as text: the specs
 * compile without the DOM types.
 */
export async function layoutProblems(page: Page): Promise<LayoutReport> {
  return page.evaluate(`(() => {
    const viewportWidth = document.documentElement.clientWidth;
    const overflowing = [];
    // Screen-reader-only content (clipped to nothing) is not part of the layout one sees.
    const visuallyHidden = (node) => {
      for (let at = node; at; at = at.parentElement) if (getComputedStyle(at).clipPath === 'inset(50%)') return true;
      return false;
    };
    for (const node of document.body.querySelectorAll('*')) {
      const box = node.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      if (getComputedStyle(node).visibility === 'hidden' || visuallyHidden(node)) continue;
      if (box.right > viewportWidth + 0.5 || box.left < -0.5) {
        const name = node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + (typeof node.className === 'string' && node.className ? '.' + node.className.split(' ').join('.') : '');
        overflowing.push(name + ' (' + Math.round(box.left) + '–' + Math.round(box.right) + ')');
      }
    }
    return { overflowing, scrollWidth: document.documentElement.scrollWidth, viewportWidth };
  })()`);
}

/** Width in px of `count` characters of the element's own font, for "is this readable" checks. */
export async function charactersWidth(page: Page, selector: string, count: number): Promise<number> {
  return page.evaluate(`(() => {
    const node = document.querySelector(${JSON.stringify(selector)});
    const context = document.createElement('canvas').getContext('2d');
    context.font = getComputedStyle(node).font;
    return context.measureText('n'.repeat(${count})).width;
  })()`);
}
