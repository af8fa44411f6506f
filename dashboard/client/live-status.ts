import { live } from './dom.js';

/** Pages without data of their own still show the live "last updated" line. */
live(async () => undefined);
