// The webhook form: live body-template preview and test sends (filled in by the webhooks pages).
"use strict";
