-- AlterTable
ALTER TABLE "ScheduleSource" ADD COLUMN     "metadata" JSONB;
