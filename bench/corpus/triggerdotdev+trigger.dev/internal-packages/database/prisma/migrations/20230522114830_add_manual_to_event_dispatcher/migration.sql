-- AlterTable
ALTER TABLE "EventDispatcher" ADD COLUMN     "manual" BOOLEAN NOT NULL DEFAULT false;
