// htm bound to Preact's h: tagged-template JSX without a build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
