// Names for the API's shapes, all taken from the types openapi-typescript generates from
// openapi.yaml (src/api/schema.d.ts, built by build.mjs): a changed contract breaks the build.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
type Json<Op extends keyof operations, Status extends number = 200> = operations[Op] extends {
  responses: infer R;
}
  ? Status extends keyof R
    ? R[Status] extends { content: { "application/json": infer B } }
      ? B
      : never
    : never
  : never;

export type User = Schemas["User"];
export type Account = Schemas["Account"];
export type CreatorInfo = Schemas["CreatorInfo"];
export type PublishRequest = Schemas["PublishRequest"];
export type ScheduledPublishRequest = Schemas["ScheduledPublishRequest"];
export type PrivacyLevel = NonNullable<NonNullable<PublishRequest["post"]>["privacy_level"]>;
export type Post = Schemas["Post"];
export type HistoryPost = Schemas["HistoryPost"];
export type PostMetrics = Schemas["PostMetrics"];
export type Video = Schemas["Video"];
export type AccountAnalytics = Schemas["AccountAnalytics"];
export type VideoAnalytics = Schemas["VideoAnalytics"];
export type ChunkProgress = Schemas["ChunkProgress"];
export type ApiErrorBody = Schemas["Error"]["error"];

export type SessionResponse = Json<"getSession">;
export type AccountsResponse = Json<"listAccounts">;
export type DisconnectResponse = Json<"disconnectAccount">;
export type PublishResponse = Json<"publish", 201>;
export type StatusResponse = Json<"publishStatus">;
export type StatusPost = StatusResponse["post"];
export type PostsResponse = Json<"listPosts">;
export type VideosResponse = Json<"listVideos">;
export type DeleteMeResponse = Json<"deleteMe">;
export type UpdateAccountSettingsResponse = Json<"updateAccountSettings">;
export type StagedMedia = Schemas["StagedMedia"];
export type MediaSlotBody = Schemas["MediaSlotBody"];
export type StagedMediaResponse = Json<"completeMedia">;
export type CreateMediaResponse = Json<"createMedia", 201>;
