import { json } from '../responses.js';
import type { RouteHandler } from './route.js';

/** `GET /ping` */
export const ping: RouteHandler = () => json(200, { gecko_says: '(V3) To the Moon!' });
