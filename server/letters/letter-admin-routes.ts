import { Router, type RequestHandler } from 'express';
import type { LetterCollaboratorService } from './letter-collaborator-service.js';
import { letterCollaboratorRoutes } from './letter-collaborator-routes.js';
import type { LetterDashboardService } from './letter-dashboard-service.js';
import { letterDashboardRoutes } from './letter-dashboard-routes.js';
import type { LetterDraftingService } from './letter-drafting-service.js';
import { letterDraftingRoutes } from './letter-drafting-routes.js';
import type { LetterPreviewService } from './letter-preview-service.js';
import type { LetterWorkflowService } from './letter-workflow-service.js';
import { letterWorkflowRoutes, type LetterWorkflowRoutesDeps } from './letter-workflow-routes.js';
import type { LetterAccess } from './letter-access.js';

/** The letters' admin use cases, one service each (wiring.ts builds them). */
export interface LetterAdmin {
  /** Loading a letter and checking the account may reach it (deliveries use it too). */
  access: LetterAccess;
  dashboard: LetterDashboardService;
  drafting: LetterDraftingService;
  preview: LetterPreviewService;
  workflow: LetterWorkflowService;
  collaborators: LetterCollaboratorService;
}

/** The organizer's pages: dashboard, letters, editor, preview, versions, workflow and sharing. */
export function letterAdminRoutes(deps: {
  letters: LetterAdmin;
  closingRound: LetterWorkflowRoutesDeps['closingRound'];
  csrf: { verify: RequestHandler };
}): Router {
  const router = Router();
  const { letters, csrf } = deps;
  router.use(letterDashboardRoutes({ dashboard: letters.dashboard }));
  router.use(letterDraftingRoutes({ drafting: letters.drafting, preview: letters.preview, csrf }));
  router.use(letterWorkflowRoutes({ workflow: letters.workflow, closingRound: deps.closingRound, csrf }));
  router.use(letterCollaboratorRoutes({ collaborators: letters.collaborators, csrf }));
  return router;
}
