// The test-call page: talk with an agent through the simulator.
"use strict";
