// Registers every command module.
import './strings.js';
import './keys.js';
import './hash.js';
import './set.js';
import './zset.js';
import './stream.js';
import './admin.js';
import './ts.js';
