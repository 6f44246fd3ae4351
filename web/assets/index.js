// The index page: its texts in the chosen language (a file, not an inline script: the CSP allows only 'self').
import { initI18n } from "/assets/i18n.js";

initI18n("index");
